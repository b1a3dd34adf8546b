package main

import (
	"context"
	"os"

	"github.com/groundwork-dev/groundwork/bench/internal/phase"
)

// roots are the benchmark's process trees: this tool, and Postgres, which
// pg_ctl detaches.
func (b *bench) roots() []int {
	if b.pgPID > 0 {
		return []int{os.Getpid(), b.pgPID}
	}
	return []int{os.Getpid()}
}

// phaseCPU starts measuring one phase's CPU; the returned func records it.
func (b *bench) phaseCPU(name string) func() {
	return phase.Track(name, b.roots(), func(u phase.CPUUse) { b.rep.CPU = append(b.rep.CPU, u) }, logf)
}

// waitQuiet waits, up to --quiet-wait, for the machine to be quiet
// before a phase starts (phase.WaitQuiet).
func (b *bench) waitQuiet(ctx context.Context, name string) {
	phase.WaitQuiet(ctx, name, b.roots(), b.o.quietWait, logf)
}
