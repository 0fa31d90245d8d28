package auth

import (
	"context"
	"errors"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// credential wraps azidentity's credential: it reports each access token
// to OnSecret and turns failures into *SignInError.
type credential struct {
	inner    azcore.TokenCredential
	mode     Mode
	onSecret func(string)

	mu       sync.Mutex
	reported string // the last access token given to onSecret
}

// GetToken implements azcore.TokenCredential.
func (c *credential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	slot := &errorSlot{}
	tk, err := c.inner.GetToken(context.WithValue(ctx, slotKey{}, slot), opts)
	if err != nil {
		e := newSignInError(c.mode, err, slot.err)
		// azidentity keeps only the message of some causes; a cancelled
		// run must still be recognisable with errors.Is.
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(e, ctxErr) {
			e.errs = append(e.errs, ctxErr)
		}
		return azcore.AccessToken{}, e
	}
	// A cached token comes back many times; masking it once is enough,
	// and a CI log with an add-mask line per Store request is noise.
	c.mu.Lock()
	fresh := tk.Token != c.reported
	c.reported = tk.Token
	c.mu.Unlock()
	if fresh {
		c.onSecret(tk.Token)
	}
	return tk, nil
}
