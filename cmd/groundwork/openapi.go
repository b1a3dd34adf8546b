package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/groundwork-dev/groundwork/api"
)

// openapiCmd prints the API's OpenAPI 3.1 document, the one the API
// serves at /openapi.json, without any configuration or connection: the
// document depends on the code alone. api/openapi.json is its committed
// copy, which make test keeps equal.
func openapiCmd(out io.Writer) error {
	b, err := OpenAPIDocument()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}

// OpenAPIDocument is the API's OpenAPI document, indented.
func OpenAPIDocument() ([]byte, error) {
	srv := api.New(api.Deps{Registry: prometheus.NewRegistry(), Log: slog.New(slog.DiscardHandler)})
	b, err := json.MarshalIndent(srv.OpenAPI(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render the OpenAPI document: %w", err)
	}
	return b, nil
}
