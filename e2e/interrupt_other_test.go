//go:build !unix

package e2e

import "testing"

// testSecondInterrupt needs SIGINT and a FIFO, which this OS lacks.
func testSecondInterrupt(t *testing.T) {
	t.Skip("needs SIGINT and a FIFO (Unix)")
}
