package prompts

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
)

// parseTemplate parses a .tmpl file. missingkey=error turns a reference to
// an input the schema does not define (a typo, or an input renamed in the
// schema but not in the prompt) into a render error; Render passes every
// schema property, absent ones as nil, so optional inputs still work with
// {{if}}, {{with}} and {{or}}.
func parseTemplate(name, text string, fields []OutputField) (*template.Template, error) {
	funcs := template.FuncMap{
		"line":    line,
		"join":    join,
		"bullets": bullets,
		"tagged":  tagged,
		"outputFormat": func() (string, error) {
			if len(fields) == 0 {
				return "", errors.New("outputFormat needs output_fields")
			}
			return outputFormat(fields), nil
		},
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(funcs).Parse(text)
	if err != nil {
		return nil, err
	}
	for _, part := range []string{"system", "user"} {
		if t.Lookup(part) == nil {
			return nil, fmt.Errorf("%s.tmpl does not define %q", name, part)
		}
	}
	return t, nil
}

// Render validates inputs, fills in defaults and executes the template's
// "system" and "user" parts. The result depends only on the inputs' values,
// never on map order, because it is hashed into the response-cache key.
// Invalid inputs return an *InputError.
func (t Template) Render(inputs map[string]any) (system, user string, err error) {
	if t.tmpl == nil {
		return "", "", errors.New("prompts: render of an unknown template")
	}
	if errs := t.Validate(inputs); len(errs) > 0 {
		return "", "", &InputError{Errors: errs}
	}
	data := t.WithDefaults(inputs)
	for name := range t.schema.Properties {
		if _, ok := data[name]; !ok {
			data[name] = nil
		}
	}
	if system, err = t.execute("system", data); err != nil {
		return "", "", err
	}
	if user, err = t.execute("user", data); err != nil {
		return "", "", err
	}
	return system, user, nil
}

func (t Template) execute(part string, data map[string]any) (string, error) {
	var b strings.Builder
	if err := t.tmpl.ExecuteTemplate(&b, part, data); err != nil {
		return "", fmt.Errorf("render %s %s: %w", t.Key(), part, err)
	}
	out := strings.TrimSpace(b.String())
	if out == "" {
		return "", fmt.Errorf("render %s %s: empty prompt", t.Key(), part)
	}
	return out, nil
}

// text formats an input value; nil (an absent optional input) is "".
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		// 'f' with -1 precision prints 3 rather than 3e+00 and keeps 2.5.
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}

// line formats a short input as one line, collapsing whitespace, so a stray
// newline in, say, a company name cannot break the prompt's layout.
func line(v any) string {
	return strings.Join(strings.Fields(text(v)), " ")
}

// items returns the elements of an array input; nil for anything else.
func items(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	}
	return nil
}

// join formats an array input as one line, each element collapsed by line.
func join(v any, sep string) string {
	parts := []string{}
	for _, e := range items(v) {
		parts = append(parts, line(e))
	}
	return strings.Join(parts, sep)
}

// bullets formats an array input as a Markdown list, one line per element.
func bullets(v any) string {
	var b strings.Builder
	for i, e := range items(v) {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("- ")
		b.WriteString(line(e))
	}
	return b.String()
}

var rxTag = regexp.MustCompile(`^[a-z][a-z_]*$`)

// tagged wraps a long free-text input in <tag>…</tag> so the model can tell
// the user's material from our instructions. Any <tag> or </tag> inside the
// text is removed: otherwise pasted text could close the block early and
// pose as instructions.
func tagged(tag string, v any) (string, error) {
	if !rxTag.MatchString(tag) {
		return "", fmt.Errorf("tagged: bad tag name %q", tag)
	}
	rx := regexp.MustCompile(`(?i)<\s*/?\s*` + tag + `\s*>`)
	body := strings.TrimSpace(rx.ReplaceAllString(text(v), ""))
	return "<" + tag + ">\n" + body + "\n</" + tag + ">", nil
}

// outputFormat is the answer-format instruction of a structured template,
// generated from output_fields so the prompt and ParseOutput cannot drift
// apart.
func outputFormat(fields []OutputField) string {
	var b strings.Builder
	b.WriteString("Reply with exactly one JSON object and nothing else: no Markdown code fences, no comments, no text before or after it. The object has exactly these keys:")
	writeFields(&b, fields, "")
	return b.String()
}

func writeFields(b *strings.Builder, fields []OutputField, indent string) {
	for _, f := range fields {
		fmt.Fprintf(b, "\n%s- %q (%s): %s", indent, f.Name, typeLabel(f), f.Description)
		if len(f.Fields) > 0 {
			if f.Type == "array" {
				b.WriteString(" Each object has exactly these keys:")
			} else {
				b.WriteString(" It has exactly these keys:")
			}
			writeFields(b, f.Fields, indent+"  ")
		}
	}
}

func typeLabel(f OutputField) string {
	if f.Type == "array" && f.Items != "" {
		return "array of " + f.Items + "s"
	}
	return f.Type
}
