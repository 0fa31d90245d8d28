package storeapi

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// rawJSONEqual compares kept unknown fields by what they mean: Marshal
// compacts and HTML-escapes a RawMessage, so its bytes may differ from
// those read.
var rawJSONEqual = cmp.Comparer(func(a, b json.RawMessage) bool {
	var x, y any
	ea, eb := json.Unmarshal(a, &x), json.Unmarshal(b, &y)
	if ea != nil || eb != nil {
		return bytes.Equal(a, b)
	}
	return cmp.Equal(x, y)
})

// FuzzFlightSubmissionJSON checks that whatever decodes as a flight
// submission encodes again into JSON that decodes to the same value, and
// that encoding that again is a fixed point: an update sends back exactly
// what it read, unknown fields included, whatever the Store sends.
func FuzzFlightSubmissionJSON(f *testing.F) {
	for _, seed := range []string{
		unknownFieldsJSON,
		`{}`,
		`{"id":"1","flightPackages":null,"packageDeliveryOptions":{}}`,
		`{"id":"1","x":{"y":[1,2,{"z":"<&>"}]},"flightPackages":[{"fileName":"a.msix","q":true}]}`,
		`{"notesForCertification":"line1\nline2\u2028","packageDeliveryOptions":{"packageRollout":{"packageRolloutPercentage":1e2},"k":null}}`,
		`{"id":"1","id":"2"}`,
		`null`,
		`[]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s1 FlightSubmission
		if err := json.Unmarshal(data, &s1); err != nil {
			return
		}
		b1, err := json.Marshal(s1)
		if err != nil {
			t.Fatalf("Marshal of a decoded submission: %v\ninput: %q", err, data)
		}
		var s2 FlightSubmission
		if err := json.Unmarshal(b1, &s2); err != nil {
			t.Fatalf("Unmarshal of Marshal's output: %v\ninput: %q\nencoded: %s", err, data, b1)
		}
		if diff := cmp.Diff(s1, s2, rawJSONEqual); diff != "" {
			t.Fatalf("round trip changed the submission (-first +second):\n%s\ninput: %q\nencoded: %s", diff, data, b1)
		}
		b2, err := json.Marshal(s2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("encoding is not a fixed point:\n%s\n%s", b1, b2)
		}
	})
}
