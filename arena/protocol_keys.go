package arena

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/agora-rlhf/agora/rlhf"
)

// requestKeys are the keys a client frame may have, spelled exactly.
var requestKeys = map[string]bool{
	"type": true, "prompt": true, "campaign": true, "battle_id": true,
	"content": true, "winner": true, "strength": true, "reason": true,
	"version": true,
}

// checkKeys refuses a frame whose top-level object has a key that is not
// one of requestKeys in exactly its case, or has a key twice. encoding/json
// matches keys without regard to case and keeps the last of two, so this
// runs first. Anything that is not an object is left to the decoder.
func checkKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil // the decoder reports malformed JSON
		}
		key, _ := tok.(string)
		switch {
		case seen[key]:
			return rlhf.Errorf(rlhf.EInvalid, "malformed message: key %q appears twice", clip(key))
		case !requestKeys[key]:
			return rlhf.Errorf(rlhf.EInvalid, "malformed message: unknown field %q (keys are lower case, as in the protocol)", clip(key))
		}
		seen[key] = true
		if err := skipValue(dec); err != nil {
			return nil
		}
	}
	return nil
}

// skipValue reads one JSON value from dec, however deeply nested.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
		if depth < 0 {
			return errors.New("unbalanced")
		}
	}
}

// clip shortens a client's key for an error message.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	n := 40
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
