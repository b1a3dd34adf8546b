package airtablefake

import "net/http"

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v0/meta/bases/{base}/tables", s.api(s.handleMeta))
	mux.HandleFunc("GET /v0/{base}/{table}", s.api(s.handleList))
	mux.HandleFunc("POST /v0/{base}/{table}/listRecords", s.api(s.handleListPost))
	mux.HandleFunc("GET /v0/{base}/{table}/{record}", s.api(s.handleGet))
	mux.HandleFunc("POST /v0/{base}/{table}", s.api(s.handleCreate))
	mux.HandleFunc("PATCH /v0/{base}/{table}", s.api(s.handleUpdate))
	mux.HandleFunc("PUT /v0/{base}/{table}", s.api(s.handleUpdate))
	mux.HandleFunc("PATCH /v0/{base}/{table}/{record}", s.api(s.handleUpdateOne))
	mux.HandleFunc("PUT /v0/{base}/{table}/{record}", s.api(s.handleUpdateOne))
	mux.HandleFunc("DELETE /v0/{base}/{table}", s.api(s.handleDelete))
	mux.HandleFunc("DELETE /v0/{base}/{table}/{record}", s.api(s.handleDeleteOne))
	// Everything else, wrong methods included, is Airtable's plain 404.
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { writeError(w, notFound()) })
	return mux
}

// handler computes a response body under the Server's mutex; the body must
// not share memory with the tables, since it is encoded after the unlock.
type handler func(r *http.Request, body []byte) (any, *apiError)

// api runs a handler under the mutex and writes its answer.
func (s *Server) api(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := readBody(r)
		s.mu.Lock()
		out, err := h(r, body)
		s.mu.Unlock()
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}
