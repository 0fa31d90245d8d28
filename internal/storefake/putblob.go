package storefake

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// PutBlob uploads body to a fileUploadUrl as one block blob, as a client
// of the real blob host must (a '+' in the SAS sent as %2B), so that tests
// of other packages can put a package where the simulator's commit finds
// it without an uploader of their own.
func PutBlob(ctx context.Context, hc *http.Client, sasURL string, body io.Reader) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, strings.ReplaceAll(sasURL, "+", "%2B"), body)
	if err != nil {
		return err
	}
	req.Header.Set("x-ms-blob-type", "BlockBlob")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("put blob: %s", resp.Status)
	}
	return nil
}
