// Command osprey is the Osprey workflow orchestrator: one binary for the
// webserver, scheduler, executor and worker, or all of them in one process.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ospreyhq/osprey/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}
