package syncplan

import (
	"errors"
	"fmt"
)

// ErrInvalidMapping is wrapped by every error Mapping.Validate returns.
var ErrInvalidMapping = errors.New("invalid sync mapping")

// Validate reports every problem with m: no fields, an unnamed or duplicate
// field, or an unknown direction, policy or delete mode. Decide assumes a
// valid mapping; on an invalid one it ignores fields with an unknown
// direction and resolves unknown policies like latest_wins.
func (m Mapping) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidMapping}, args...)...))
	}
	if len(m.Fields) == 0 {
		bad("no fields")
	}
	if !m.Policy.valid() {
		bad("unknown policy %q", m.Policy)
	}
	if !m.Deletes.valid() {
		bad("unknown deletes mode %q", m.Deletes)
	}
	seen := make(map[string]bool, len(m.Fields))
	for i, f := range m.Fields {
		switch {
		case f.Name == "":
			bad("field %d has no name", i)
		case seen[f.Name]:
			bad("duplicate field %q", f.Name)
		}
		seen[f.Name] = true
		if !f.Direction.valid() {
			bad("field %q: unknown direction %q", f.Name, f.Direction)
		}
		if f.Policy != "" && !f.Policy.valid() {
			bad("field %q: unknown policy %q", f.Name, f.Policy)
		}
	}
	return errors.Join(errs...)
}
