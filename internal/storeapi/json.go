package storeapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// The custom JSON below keeps every field a resource type does not name in
// its Extra map and writes it back, because the Store's PUT takes the whole
// resource: a field this client does not know about, dropped on the way
// back, would be reset by the update. Values in Extra stay raw JSON, so
// large numbers never pass through float64.

// knownFields maps the lower-cased JSON names of t's fields, because
// encoding/json matches names case-insensitively on decode: a key it has
// decoded into a named field must not also be kept in Extra.
func knownFields(t reflect.Type) map[string]bool {
	known := make(map[string]bool)
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		known[strings.ToLower(name)] = true
	}
	return known
}

var (
	flightSubmissionFields = knownFields(reflect.TypeFor[FlightSubmission]())
	packageFields          = knownFields(reflect.TypeFor[Package]())
	deliveryOptionsFields  = knownFields(reflect.TypeFor[PackageDeliveryOptions]())
)

// extraFields returns the members of the JSON object b whose names are not
// in known, or nil when there are none.
func extraFields(b []byte, known map[string]bool) (map[string]json.RawMessage, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	var extra map[string]json.RawMessage
	for k, v := range all {
		if known[strings.ToLower(k)] {
			continue
		}
		if extra == nil {
			extra = make(map[string]json.RawMessage)
		}
		extra[k] = v
	}
	return extra, nil
}

// withExtra appends the members of extra to the JSON object obj. Named
// fields win over an Extra entry of the same name.
func withExtra(obj []byte, extra map[string]json.RawMessage, known map[string]bool) ([]byte, error) {
	keep := make(map[string]json.RawMessage, len(extra))
	for k, v := range extra {
		if !known[strings.ToLower(k)] {
			keep[k] = v
		}
	}
	if len(keep) == 0 {
		return obj, nil
	}
	more, err := json.Marshal(keep) // sorts the keys and checks each value
	if err != nil {
		return nil, err
	}
	obj = bytes.TrimSpace(obj)
	if len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' {
		return nil, fmt.Errorf("storeapi: cannot add fields to JSON %.20q", obj)
	}
	if len(bytes.TrimSpace(obj[1:len(obj)-1])) == 0 {
		return more, nil
	}
	out := make([]byte, 0, len(obj)+len(more))
	out = append(out, obj[:len(obj)-1]...)
	out = append(out, ',')
	out = append(out, more[1:]...)
	return out, nil
}

// UnmarshalJSON decodes a flight submission and keeps the fields it does not
// name in Extra.
func (s *FlightSubmission) UnmarshalJSON(b []byte) error {
	type plain FlightSubmission
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	extra, err := extraFields(b, flightSubmissionFields)
	if err != nil {
		return err
	}
	*s = FlightSubmission(p)
	s.Extra = extra
	return nil
}

// MarshalJSON encodes the named fields and then those in Extra: a faithful
// round trip of what UnmarshalJSON read.
func (s FlightSubmission) MarshalJSON() ([]byte, error) {
	type plain FlightSubmission
	b, err := json.Marshal(plain(s))
	if err != nil {
		return nil, err
	}
	return withExtra(b, s.Extra, flightSubmissionFields)
}

// UnmarshalJSON decodes a package entry and keeps the fields it does not
// name in Extra.
func (p *Package) UnmarshalJSON(b []byte) error {
	type plain Package
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	extra, err := extraFields(b, packageFields)
	if err != nil {
		return err
	}
	*p = Package(v)
	p.Extra = extra
	return nil
}

// MarshalJSON encodes the named fields and then those in Extra.
func (p Package) MarshalJSON() ([]byte, error) {
	type plain Package
	b, err := json.Marshal(plain(p))
	if err != nil {
		return nil, err
	}
	return withExtra(b, p.Extra, packageFields)
}

// UnmarshalJSON decodes packageDeliveryOptions and keeps the fields it does
// not name in Extra.
func (o *PackageDeliveryOptions) UnmarshalJSON(b []byte) error {
	type plain PackageDeliveryOptions
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	extra, err := extraFields(b, deliveryOptionsFields)
	if err != nil {
		return err
	}
	*o = PackageDeliveryOptions(v)
	o.Extra = extra
	return nil
}

// MarshalJSON encodes the named fields and then those in Extra.
func (o PackageDeliveryOptions) MarshalJSON() ([]byte, error) {
	type plain PackageDeliveryOptions
	b, err := json.Marshal(plain(o))
	if err != nil {
		return nil, err
	}
	return withExtra(b, o.Extra, deliveryOptionsFields)
}

// Fields the Store owns: an update does not send them back. The rollout's
// status and fallback are documented as ignored on PUT (STOREAPI.md §4.4);
// status, statusDetails and fileUploadUrl are the server's record of the
// submission, not something a client sets.
var (
	serverOwnedSubmissionFields = []string{"status", "statusDetails", "fileUploadUrl"}
	serverOwnedRolloutFields    = []string{"packageRolloutStatus", "fallbackSubmissionId"}
)

// updateBody is the body UpdateFlightSubmission sends: the submission as
// read (unknown fields and package ids included) without the fields the
// Store owns.
func updateBody(sub *FlightSubmission) ([]byte, error) {
	b, err := json.Marshal(sub)
	if err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, err
	}
	for _, k := range serverOwnedSubmissionFields {
		delete(top, k)
	}
	if raw, ok := top["packageDeliveryOptions"]; ok {
		var opts map[string]json.RawMessage
		if err := json.Unmarshal(raw, &opts); err != nil {
			return nil, err
		}
		if rr, ok := opts["packageRollout"]; ok {
			var rollout map[string]json.RawMessage
			if err := json.Unmarshal(rr, &rollout); err != nil {
				return nil, err
			}
			for _, k := range serverOwnedRolloutFields {
				delete(rollout, k)
			}
			if opts["packageRollout"], err = json.Marshal(rollout); err != nil {
				return nil, err
			}
		}
		if top["packageDeliveryOptions"], err = json.Marshal(opts); err != nil {
			return nil, err
		}
	}
	return json.Marshal(top)
}
