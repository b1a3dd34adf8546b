package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/groundwork-dev/groundwork/internal/config"
)

// devClusterFlag is the flag `groundwork dev-cluster` passes to the `api`
// and `worker` processes it supervises. It gives them the dev role, whose
// only privilege is GROUNDWORK_RESEARCH_ALLOW_CIDRS (reaching loopback
// pages and webhook receivers through the SSRF guard), as `groundwork dev`
// has it. It is a flag, not a setting: configuration comes from the
// environment, and an environment variable slips into production through
// an env file unseen. And it is honoured only when the parent process
// really is `groundwork dev-cluster` of this same binary, so typing it on
// a production command line makes the process refuse to start instead.
const devClusterFlag = "dev-cluster-child"

// serveRole parses the arguments of `groundwork api` or `groundwork
// worker` and returns the configuration role to load: base, plus the dev
// role when dev-cluster started this process with --dev-cluster-child.
func serveRole(name string, base config.Role, args []string) (config.Role, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	child := fs.Bool(devClusterFlag, false, "set by `groundwork dev-cluster` for the processes it supervises (refused otherwise)")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	if fs.NArg() > 0 {
		return 0, usageMistake(fmt.Sprintf("%s: unexpected arguments %q (usage: groundwork %s --help)", name, fs.Args(), name))
	}
	if !*child {
		return base, nil
	}
	if err := parentIsDevCluster(); err != nil {
		return 0, fmt.Errorf("%s --%s: %w", name, devClusterFlag, err)
	}
	return base | config.RoleDev, nil
}

// parentIsDevCluster checks, through /proc, that the parent process runs
// this very executable with dev-cluster as its command.
func parentIsDevCluster() error {
	refused := errors.New("only `groundwork dev-cluster` may start a process with it (it opens internal addresses to research and webhooks)")
	ppid := os.Getppid()
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("%w: find own executable: %v", refused, err)
	}
	parentExe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(ppid), "exe"))
	if err != nil {
		return fmt.Errorf("%w: read the parent's executable: %v", refused, err)
	}
	if filepath.Clean(parentExe) != filepath.Clean(self) {
		return fmt.Errorf("%w: the parent (pid %d) runs %s", refused, ppid, parentExe)
	}
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(ppid), "cmdline"))
	if err != nil {
		return fmt.Errorf("%w: read the parent's command line: %v", refused, err)
	}
	argv := bytes.Split(bytes.TrimRight(cmdline, "\x00"), []byte{0})
	if len(argv) < 2 || string(argv[1]) != "dev-cluster" {
		return fmt.Errorf("%w: the parent (pid %d) is not running dev-cluster", refused, ppid)
	}
	return nil
}
