package llmfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultReplyWords is the length in words (output tokens, by the fake
// tokenizer) of DefaultReply's text, fixed so that benchmarks can predict
// output usage whatever the prompt.
const DefaultReplyWords = 40

// DefaultReply is the reply used when Options.Reply is nil: "Summary:"
// followed by the prompt's words, cycled or cut to DefaultReplyWords words in
// all, so it is deterministic and visibly derived from the prompt.
func DefaultReply(r Request) string {
	words := strings.Fields(r.Prompt)
	if len(words) == 0 {
		words = strings.Fields(r.System)
	}
	if len(words) == 0 {
		words = []string{"nothing"}
	}
	out := make([]string, 0, DefaultReplyWords)
	out = append(out, "Summary:")
	for i := 0; len(out) < DefaultReplyWords; i++ {
		out = append(out, words[i%len(words)])
	}
	return strings.Join(out, " ")
}

// CountTokens is the fake tokenizer: one token per whitespace-separated word.
func CountTokens(text string) int {
	return len(strings.Fields(text))
}

// output is the reply as the fake delivers it.
type output struct {
	text       string   // what the client receives
	chunks     []string // text split into stream deltas; they concatenate to text
	words      int      // output tokens
	chunkWords int
	truncated  bool // cut to max_tokens
}

// shape cuts reply to maxWords words (0: no limit) and splits it into deltas
// of chunkWords words. Whitespace stays attached to the following word, so a
// reply with line breaks streams and truncates without losing them.
func shape(reply string, maxWords, chunkWords int) output {
	segs := segments(reply)
	out := output{chunkWords: chunkWords}
	if maxWords > 0 && len(segs) > maxWords {
		segs, out.truncated = segs[:maxWords], true
	}
	out.words = len(segs)
	for i := 0; i < len(segs); i += chunkWords {
		out.chunks = append(out.chunks, strings.Join(segs[i:min(i+chunkWords, len(segs))], ""))
	}
	out.text = strings.Join(out.chunks, "")
	return out
}

// wordsBefore is the number of words in the first i chunks.
func (o output) wordsBefore(i int) int {
	return min(i*o.chunkWords, o.words)
}

// segments splits s into words, each with the whitespace before it; trailing
// whitespace joins the last word. It agrees with strings.Fields on what a word
// is, so len(segments(s)) == CountTokens(s).
func segments(s string) []string {
	var segs []string
	start, inWord := 0, false
	for i, r := range s {
		space := unicode.IsSpace(r)
		switch {
		case inWord && space:
			segs = append(segs, s[start:i])
			start, inWord = i, false
		case !inWord && !space:
			inWord = true
		}
	}
	switch {
	case inWord:
		segs = append(segs, s[start:])
	case len(segs) > 0:
		segs[len(segs)-1] += s[start:]
	}
	return segs
}

// contentText returns the text of a message content or system field, which
// both providers accept either as a string or as an array of typed parts;
// parts other than text (images, tool results...) carry no text for the fake.
func contentText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case '[':
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(raw, &parts); err != nil {
			return "", err
		}
		var texts []string
		for _, p := range parts {
			if p.Type == "text" {
				texts = append(texts, p.Text)
			}
		}
		return strings.Join(texts, "\n\n"), nil
	default:
		return "", errors.New("content must be a string or an array of content parts")
	}
}

// marshal encodes v as JSON the way the providers do, leaving <, > and &
// unescaped; v is always one of this package's wire types, so it cannot fail.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("llmfake: " + err.Error())
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// truncateJSON cuts a valid JSON document in the middle, inside a string if it
// can, so the result is certainly not valid JSON.
func truncateJSON(b []byte) []byte {
	n := len(b) / 2
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return b[:n]
}

// errKind is a class of error response, which each provider renders in its
// own status code and body.
type errKind int

const (
	errBadRequest errKind = iota
	errAuth
	errNotFound
	errRateLimit  // injected rate limit
	errTokenLimit // the token bucket's rate limit
	errOverloaded
	errServer
)

func (k errKind) String() string {
	switch k {
	case errBadRequest:
		return "Invalid request"
	case errAuth:
		return "Invalid API key"
	case errNotFound:
		return "Not found"
	case errRateLimit, errTokenLimit:
		return "Rate limit exceeded"
	case errOverloaded:
		return "Overloaded"
	default:
		return "Internal server error"
	}
}

// apiErr is an error response to send.
type apiErr struct {
	kind errKind
	msg  string
}

// script is a streamed response as server-sent events, split so that faults
// can cut it after the opening events or after some deltas.
type script struct {
	open   [][]byte // events before the first content delta
	deltas [][]byte // one event per output chunk
	close  [][]byte // events after the last delta, ending the stream
}

// provider is one API dialect.
type provider interface {
	name() string
	// apiKey extracts the credential from the request headers.
	apiKey(h http.Header) string
	// requestIDHeader names the header that carries the request id.
	requestIDHeader() string
	// parse fills c from a request body.
	parse(body []byte, c *call) error
	completion(c *call, out output) []byte
	stream(c *call, out output) script
	malformedBody(c *call, out output) []byte
	malformedEvent(c *call) []byte
	errorBody(c *call, e apiErr) (status int, body []byte)
	// rateHeaders describes the token bucket in the provider's headers.
	rateHeaders(h http.Header, limit, remaining int, reset time.Duration, now time.Time)
}

// sseData formats one server-sent event carrying data, with the event name
// when the dialect uses them.
func sseData(event string, data []byte) []byte {
	var b bytes.Buffer
	if event != "" {
		b.WriteString("event: ")
		b.WriteString(event)
		b.WriteByte('\n')
	}
	b.WriteString("data: ")
	b.Write(data)
	b.WriteString("\n\n")
	return b.Bytes()
}
