package discover

import (
	"errors"

	"github.com/groundwork-dev/groundwork/internal/ssrf"
)

// Guard is the groundwork.URLGuard research requests are validated with:
// the SSRF policy decides what may be fetched, Normalize how it is named.
type Guard struct {
	Policy ssrf.Policy
}

// CheckURL applies the SSRF policy to raw; blocked says the policy refused
// the address rather than the URL's form.
func (g Guard) CheckURL(raw string) (blocked bool, err error) {
	err = g.Policy.CheckURL(raw)
	return errors.Is(err, ssrf.ErrBlocked), err
}

// NormalizeURL returns raw in the form pages are stored under.
func (g Guard) NormalizeURL(raw string) (string, error) { return Normalize(raw) }
