// Command steward runs and inspects a governed Internet: its ledger, its
// charter, its participants and bodies. See the README for the commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	err := m.Run(ctx, os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "steward:", err)
	}
	os.Exit(exitCode(err))
}
