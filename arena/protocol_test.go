package arena

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/agora-rlhf/agora/rlhf"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		in       string
		wantType string
		wantErr  string // substring of the error; "" for none
	}{
		{`{"type":"start","prompt":"hi"}`, RequestStart, ""},
		{`{"type":"vote","battle_id":"b","winner":"a","strength":"clear","reason":"r"}`, RequestVote, ""},
		{`{"type":"message","battle_id":"b","content":"more"}`, RequestMessage, ""},
		{`{"type":"accept_terms","version":"2026-12"}`, RequestAcceptTerms, ""},
		{`{"type":"accept_terms","Version":"2026-12"}`, "", "unknown field"},
		{`{"type":"vote","battle_id":"b","winner":"a","model_a":"x"}`, "", "unknown field"},
		{`{"type":"start","prompt":"x"} {"type":"start"}`, "", "after the JSON object"},
		{`{"type":"start","prompt":1}`, "", `"prompt" must be a string`},
		{`{"type":"dance"}`, "", "unknown message type"},
		{`{}`, "", `no "type"`},
		{`[`, "", "malformed"},
		{"{\"type\":\"start\",\"prompt\":\"\xff\"}", "", "UTF-8"},
		{`{"type":"vote","battle_id":"b","Winner":"a"}`, "", `unknown field "Winner"`},
		{`{"TYPE":"start","prompt":"x"}`, "", `unknown field "TYPE"`},
		{`{"type":"vote","battle_id":"b","winner":"a","winner":"b"}`, "", `"winner" appears twice`},
		{`{"type":"start","prompt":"x","type":"start"}`, "", `"type" appears twice`},
		{`{"type":"start","prompt":{"a":[1,{"b":2}]},"prompt":"y"}`, "", `appears twice`},
		{`{"type":"start","promp\u0074":"x","prompt":"y"}`, "", `appears twice`},
		{` { "type" : "vote" , "battle_id":"b",` + "\n\t\r" + `"winner":"a"} `, RequestVote, ""},
		{`{"type":"vote","battle_id":"b","winner":"a",}`, "", "malformed"},
		{`{"type":"vote","battle_id":"b","winner":"a"`, "", "malformed"},
		{`{"type":"vote","battle_id":"b","winner":null}`, RequestVote, ""},
		{`{"type":"start","prompt":"a\"b"}`, RequestStart, ""},
	}
	for _, tt := range tests {
		r, err := ParseRequest([]byte(tt.in))
		if tt.wantErr == "" {
			if err != nil || r.Type != tt.wantType {
				t.Errorf("ParseRequest(%s) = %+v, %v; want type %s", tt.in, r, err, tt.wantType)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || rlhf.ErrorCode(err) != rlhf.EInvalid {
			t.Errorf("ParseRequest(%s) error = %v, want an invalid error containing %q", tt.in, err, tt.wantErr)
		}
	}
}

// FuzzParseRequest checks that no client frame makes the decoder panic and
// that whatever it accepts has a known type and valid UTF-8 text.
func FuzzParseRequest(f *testing.F) {
	for _, seed := range []string{
		`{"type":"start","prompt":"hi"}`,
		`{"type":"vote","battle_id":"b","winner":"both_bad","strength":"negligible"}`,
		`{"type":"message","battle_id":"b","content":"x"}`,
		`{"type":"vote","battle_id":"b","winner":"a","winner":"b"}`, `{"Type":"vote"}`, ` {"type":"vote"} x`,
		`{"type":"vote","weight":1e999}`, `{"type":"start","prompt":"\ud800"}`, `null`, `"x"`, `{"type":null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if plain, ok := parsePlain(data); ok && utf8.Valid(data) {
			fast, fastErr := knownType(&plain)
			full, fullErr := parseFull(data)
			if fmt.Sprint(fastErr) != fmt.Sprint(fullErr) || (fullErr == nil && *fast != *full) {
				t.Fatalf("parsePlain(%q) = %+v, %v; the full decoder gives %+v, %v", data, fast, fastErr, full, fullErr)
			}
		}
		r, err := ParseRequest(data)
		if err != nil {
			if rlhf.ErrorCode(err) != rlhf.EInvalid {
				t.Fatalf("ParseRequest(%q) error code %q, want invalid", data, rlhf.ErrorCode(err))
			}
			return
		}
		switch r.Type {
		case RequestStart, RequestMessage, RequestVote, RequestAcceptTerms:
		default:
			t.Fatalf("ParseRequest(%q) accepted type %q", data, r.Type)
		}
	})
}

// TestPlainKeys checks that the plain parser knows exactly the protocol's
// keys: those of Request's JSON tags, which checkKeys allows.
func TestPlainKeys(t *testing.T) {
	typ := reflect.TypeFor[Request]()
	for i := range typ.NumField() {
		key, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		var r Request
		if field, _ := r.field([]byte(key)); field == nil || !requestKeys[key] {
			t.Errorf("key %q of Request: plain parser knows it %v, checkKeys %v", key, field != nil, requestKeys[key])
		}
	}
	if len(requestKeys) != typ.NumField() {
		t.Errorf("checkKeys allows %d keys; Request has %d fields", len(requestKeys), typ.NumField())
	}
}
