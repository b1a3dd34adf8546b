package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/groundwork-dev/groundwork/bench/internal/benchstack"
	"github.com/groundwork-dev/groundwork/bench/internal/cluster"
	"github.com/groundwork-dev/groundwork/internal/devstack"
)

// clusterTarget is a dev-cluster the users scenario attacks through its
// nginx: one this tool started (--cluster) or a running one (--cluster-json).
type clusterTarget struct {
	statePath string
	own       *cluster.Cluster
	dir       string // temp dir of own
	keep      bool
}

// startClusterStack starts `groundwork dev-cluster --api-replicas 2
// --workers 2` on free ports in a temp dir (--cluster), or reads the
// cluster.json of a running one (--cluster-json), and returns the stack to
// attack: nginx (or --api/--url), the primary and the Temporal frontend.
func startClusterStack(ctx context.Context, o options) (*benchstack.Stack, *clusterTarget, error) {
	ct := &clusterTarget{statePath: o.clusterJSON, keep: o.keep}
	if o.cluster {
		if _, err := devstack.FindNginx(); err != nil {
			return nil, nil, fmt.Errorf("dev-cluster needs nginx: %w", err)
		}
		tcli, err := filepath.Abs(o.temporalCLI)
		if err != nil {
			return nil, nil, err
		}
		if _, err := os.Stat(tcli); err != nil {
			return nil, nil, fmt.Errorf("temporal CLI missing at %s: run `make tools`", tcli)
		}
		// Not a private dir: the postgres user must reach it when root.
		if ct.dir, err = os.MkdirTemp("", "groundwork-soak-"); err != nil {
			return nil, nil, err
		}
		_ = os.Chmod(ct.dir, 0o755)
		logf("building groundwork into %s…", ct.dir)
		bin, err := cluster.BuildBinary(ctx, ct.dir, o.groundwork)
		if err != nil {
			ct.stop()
			return nil, nil, err
		}
		logf("starting dev-cluster (2 APIs, 2 workers) in %s…", ct.dir)
		env := append([]string{"GROUNDWORK_LOG_LEVEL=warn"}, o.serverEnv...)
		ct.own, err = cluster.Start(ctx, cluster.Options{Dir: ct.dir, Bin: bin, TemporalCLI: tcli, APIs: 2, Workers: 2, Env: env, Logf: logf})
		if err != nil {
			ct.stop()
			return nil, nil, err
		}
		ct.statePath = cluster.StatePath(ct.own.Data)
	}
	st, err := devstack.ReadClusterState(ct.statePath)
	if err != nil {
		ct.stop()
		return nil, nil, err
	}
	api := st.LoadBalancer
	if o.apiURL != "" {
		api = o.apiURL
	}
	logf("dev-cluster: attacking %s; database %s; Temporal %s", api, st.DatabaseURL, st.TemporalAddress)
	return &benchstack.Stack{
		APIURL:          strings.TrimRight(api, "/"),
		DatabaseURL:     st.DatabaseURL,
		TemporalAddress: st.TemporalAddress,
		Namespace:       o.namespace,
	}, ct, nil
}

// stop stops a cluster this tool started and removes its temp dir (unless
// --keep); a cluster of --cluster-json is left alone.
func (ct *clusterTarget) stop() {
	if ct == nil || ct.dir == "" {
		return
	}
	if ct.own != nil {
		if done, err := ct.own.Exited(); done {
			b, _ := os.ReadFile(ct.own.OutPath)
			logf("WARNING: dev-cluster exited on its own before the end (%v):\n%s", err, cluster.TailBytes(b, 3000))
		}
		logf("stopping dev-cluster…")
		ct.own.Stop()
	}
	if ct.keep {
		logf("kept %s (dev-cluster.out, data/cluster/logs)", ct.dir)
		return
	}
	_ = os.RemoveAll(ct.dir)
}

func newTabWriter(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
}
