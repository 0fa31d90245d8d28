// Command storeflight publishes Windows apps to the Microsoft Store from CI:
// it updates a package flight submission, uploads and commits it, waits for
// it and steers its gradual rollout. See README.md.
package main

import (
	"context"
	"os"

	"github.com/storeflight/storeflight/internal/cli"
)

func main() {
	ctx, stop := cli.SignalContext(context.Background(), os.Stderr)
	code := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
