package loadtest

import (
	"bytes"
	"encoding/json"
)

// The client frames are written as the in-process vote benchmarks write
// theirs (arena/httpapi's voteMsg): keys in the protocol's order, the type
// first, so that the server parses them on its fast path, and no encoder
// in the load tester's processor time.

// voteFrame is the frame voting for side a of battle id.
func voteFrame(id string) []byte {
	return appendQuoted(append(make([]byte, 0, 48+len(id)), `{"type":"vote","battle_id":`...), id, `,"winner":"a"}`)
}

// messageFrame is the frame of a follow-up turn in battle id.
func messageFrame(id, content string) []byte {
	b := appendQuoted([]byte(`{"type":"message","battle_id":`), id, `,"content":`)
	return appendQuoted(b, content, "}")
}

// appendQuoted appends s as a JSON string, then tail.
func appendQuoted(b []byte, s, tail string) []byte {
	plain := true
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			plain = false
			break
		}
	}
	if plain {
		b = append(append(append(b, '"'), s...), '"')
	} else {
		q, _ := json.Marshal(s) // a string always marshals
		b = append(b, q...)
	}
	return append(b, tail...)
}

// votedPrefix starts every acknowledgement: the server writes the type
// first. Like the in-process benchmarks' readVoted, the load tester reads
// no more of an acknowledgement than that, and decodes any other frame.
var votedPrefix = []byte(`{"type":"voted",`)

// isVoted reports whether data is a vote's acknowledgement.
func isVoted(data []byte) bool { return bytes.HasPrefix(data, votedPrefix) }
