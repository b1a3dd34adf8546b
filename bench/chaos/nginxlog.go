package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// NginxFindings are what nginx's own logs say about the errors it made or
// passed on: the bench's table counts statuses, these name the cause (a
// 502 is nginx's, an API's 503 is not).
type NginxFindings struct {
	// ErrorLog counts error.log's entries by message (warn and above),
	// with the client request and upstream cut off; ErrorLines are the
	// first entries themselves.
	ErrorLog   map[string]int `json:"error_log_by_message"`
	ErrorLines []string       `json:"error_log_lines,omitempty"`
	// Gateway are access.log's lines answered 502 or 504, and Retried
	// those that went to more than one API (upstream_status lists two).
	Gateway []string `json:"access_log_502_504,omitempty"`
	Retried int      `json:"requests_tried_on_two_apis"`
}

var (
	accessLine = regexp.MustCompile(`^\S+ \[[^\]]+\] "[^"]*" (\d{3}) \S+ upstream=(\S*(?:, \S+)*) upstream_status=(\S*(?:, \S+)*) `)
	// errorEntry: `2026/12/07 19:40:01 [error] 123#123: *45 connect() failed (111: Connection refused) while connecting to upstream, client: …`
	errorEntry = regexp.MustCompile(`^\S+ \S+ \[(\w+)\] \d+#\d+: (?:\*\d+ )?(.*?)(?:, client: .*)?$`)
	digits     = regexp.MustCompile(`\d+`)
)

// readNginxLogs reads the logs under the cluster's nginx prefix.
func readNginxLogs(data string) (*NginxFindings, error) {
	dir := filepath.Join(data, "cluster", "nginx", "logs")
	n := &NginxFindings{ErrorLog: map[string]int{}}
	if err := eachLine(filepath.Join(dir, "error.log"), func(line string) {
		m := errorEntry.FindStringSubmatch(line)
		if m == nil || m[1] == "notice" || m[1] == "info" {
			return
		}
		// The message without pids, ports and counts, to group by.
		n.ErrorLog["["+m[1]+"] "+digits.ReplaceAllString(m[2], "N")]++
		if len(n.ErrorLines) < 100 {
			n.ErrorLines = append(n.ErrorLines, line)
		}
	}); err != nil {
		return nil, err
	}
	if err := eachLine(filepath.Join(dir, "access.log"), func(line string) {
		m := accessLine.FindStringSubmatch(line)
		if m == nil {
			return
		}
		if strings.Contains(m[3], ",") {
			n.Retried++
		}
		if (m[1] == "502" || m[1] == "504") && len(n.Gateway) < 100 {
			n.Gateway = append(n.Gateway, line)
		}
	}); err != nil {
		return nil, err
	}
	return n, nil
}

func eachLine(path string, f func(string)) error {
	file, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("nginx log: %w", err)
	}
	defer file.Close()
	s := bufio.NewScanner(file)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		f(s.Text())
	}
	if err := s.Err(); err != nil {
		return fmt.Errorf("nginx log %s: %w", path, err)
	}
	return nil
}

// printNginx prints the findings, most frequent message first.
func printNginx(w io.Writer, n *NginxFindings) {
	keys := make([]string, 0, len(n.ErrorLog))
	for k := range n.ErrorLog {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return n.ErrorLog[keys[i]] > n.ErrorLog[keys[j]] })
	fmt.Fprintf(w, "\nnginx: %d requests tried on two APIs; %d answered 502/504\n", n.Retried, len(n.Gateway))
	for _, k := range keys {
		fmt.Fprintf(w, "  error.log %5d× %s\n", n.ErrorLog[k], k)
	}
	for _, l := range n.Gateway {
		fmt.Fprintf(w, "  access.log: %s\n", l)
	}
}
