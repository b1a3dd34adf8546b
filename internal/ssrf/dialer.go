package ssrf

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// Dialer opens connections only to addresses the policy allows. The check
// runs in the dialer's Control hook, on the address the socket is about to
// connect to, after DNS: a name that resolves to a public address for a
// pre-flight check and to 127.0.0.1 for the connection (DNS rebinding)
// is still refused.
type Dialer struct {
	Policy Policy
	// Timeout bounds one connection attempt (default 10 s).
	Timeout time.Duration
}

// DialContext connects like net.Dialer.DialContext, refusing blocked
// addresses with an error wrapping ErrBlocked.
func (d Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	if err := d.Policy.CheckHost(host); err != nil {
		return nil, err
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	nd := net.Dialer{
		Timeout: timeout,
		Control: func(_, addr string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(addr)
			if err != nil {
				return fmt.Errorf("%w: unparsable address %s", ErrBlocked, addr)
			}
			if err := d.Policy.CheckAddr(ap.Addr()); err != nil {
				return err
			}
			return d.Policy.CheckPort(ap.Addr(), ap.Port())
		},
	}
	conn, err := nd.DialContext(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	return conn, nil
}
