package storeapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The functions below edit a JSON document in place: the bytes of every
// value an edit does not touch stay exactly as they were (member order,
// white space, number spelling, escapes), so that a submission goes back to
// the Store as it was read but for the fields a run names. They expect a
// valid document (checked once with json.Valid) and scan it by hand;
// encoding/json would re-encode, and so change, what it does not model.

// rawMember is one member of a JSON object: its decoded name and where its
// value sits in the object's bytes.
type rawMember struct {
	name       string
	start, end int
}

// rawObject is a JSON object's members in document order.
type rawObject struct {
	members []rawMember
	end     int // index of the closing brace
}

// parseObject reads the object that starts (after white space) at b[0].
func parseObject(b []byte) (rawObject, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return rawObject{}, errors.New("not a JSON object")
	}
	var o rawObject
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		o.end = i
		return o, nil
	}
	for i < len(b) {
		keyEnd, err := skipValue(b, i)
		if err != nil {
			return o, err
		}
		var name string
		if err := json.Unmarshal(b[i:keyEnd], &name); err != nil {
			return o, fmt.Errorf("member name: %w", err)
		}
		i = skipSpace(b, keyEnd)
		if i >= len(b) || b[i] != ':' {
			return o, errors.New("malformed JSON object")
		}
		start := skipSpace(b, i+1)
		end, err := skipValue(b, start)
		if err != nil {
			return o, err
		}
		o.members = append(o.members, rawMember{name: name, start: start, end: end})
		i = skipSpace(b, end)
		if i < len(b) && b[i] == '}' {
			o.end = i
			return o, nil
		}
		if i >= len(b) || b[i] != ',' {
			return o, errors.New("malformed JSON object")
		}
		i = skipSpace(b, i+1)
	}
	return o, errors.New("unterminated JSON object")
}

// find returns the member called name, spelt so or in another case (as
// encoding/json reads names). Two members that could be meant are an error
// rather than a guess: encoding/json would read the last, an edit might
// change the first.
func (o rawObject) find(name string) (rawMember, bool, error) {
	var exact, folded []rawMember
	for _, m := range o.members {
		switch {
		case m.name == name:
			exact = append(exact, m)
		case strings.EqualFold(m.name, name):
			folded = append(folded, m)
		}
	}
	switch {
	case len(exact)+len(folded) > 1:
		return rawMember{}, false, fmt.Errorf("member %q appears %d times (ignoring case)", name, len(exact)+len(folded))
	case len(exact) == 1:
		return exact[0], true, nil
	case len(folded) == 1:
		return folded[0], true, nil
	}
	return rawMember{}, false, nil
}

// parseArray returns where each element of the array that starts (after
// white space) at b[0] sits.
func parseArray(b []byte) ([][2]int, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, errors.New("not a JSON array")
	}
	var elems [][2]int
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return elems, nil
	}
	for i < len(b) {
		end, err := skipValue(b, i)
		if err != nil {
			return nil, err
		}
		elems = append(elems, [2]int{i, end})
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ']' {
			return elems, nil
		}
		if i >= len(b) || b[i] != ',' {
			return nil, errors.New("malformed JSON array")
		}
		i = skipSpace(b, i+1)
	}
	return nil, errors.New("unterminated JSON array")
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("unexpected end of JSON")
	}
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1, nil
			}
		}
		return 0, errors.New("unterminated JSON string")
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipValue(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errors.New("unterminated JSON container")
	default:
		j := i
		for j < len(b) && !bytes.ContainsRune([]byte(",}] \t\r\n"), rune(b[j])) {
			j++
		}
		if j == i {
			return 0, fmt.Errorf("unexpected %q in JSON", b[i])
		}
		return j, nil
	}
}

// splice returns b with b[start:end] replaced by with, in a new slice.
func splice(b []byte, start, end int, with []byte) []byte {
	out := make([]byte, 0, len(b)-(end-start)+len(with))
	out = append(out, b[:start]...)
	out = append(out, with...)
	return append(out, b[end:]...)
}

// setMember returns the object obj with member name's value replaced by
// edit(old), or, when there is no such member (old is nil), with the
// member added at the end. A value edit returns unchanged (the same bytes)
// leaves obj as it was.
func setMember(obj []byte, name string, edit func(old []byte) ([]byte, error)) ([]byte, error) {
	o, err := parseObject(obj)
	if err != nil {
		return nil, err
	}
	m, ok, err := o.find(name)
	if err != nil {
		return nil, err
	}
	var old []byte
	if ok {
		old = obj[m.start:m.end]
	}
	val, err := edit(old)
	if err != nil {
		return nil, err
	}
	if ok {
		if bytes.Equal(val, old) {
			return obj, nil
		}
		return splice(obj, m.start, m.end, val), nil
	}
	key, err := json.Marshal(name)
	if err != nil {
		return nil, err
	}
	add := append(key, ':')
	add = append(add, val...)
	if len(o.members) > 0 {
		add = append([]byte{','}, add...)
	}
	return splice(obj, o.end, o.end, add), nil
}

// setPath applies edit to the value at path (member names from obj down),
// creating the objects on the way when they are missing or null.
func setPath(obj []byte, path []string, edit func(old []byte) ([]byte, error)) ([]byte, error) {
	if len(path) == 1 {
		return setMember(obj, path[0], edit)
	}
	return setMember(obj, path[0], func(old []byte) ([]byte, error) {
		if old == nil || string(old) == "null" {
			old = []byte("{}")
		}
		return setPath(old, path[1:], edit)
	})
}

// setValue is an edit that sets a value encoded from v (HTML characters
// left as they are, so that notes read back as written).
func setValue(v any) func([]byte) ([]byte, error) {
	return func([]byte) ([]byte, error) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
}
