package arena

// parsePlain decodes the frame every client sends: one JSON object whose
// keys are the protocol's, each once, and whose values are strings with no
// escapes, with nothing but whitespace around it. For such a frame it
// gives what the full decoder gives, without the decoder's reflection and
// token allocations; anything else (an escape, a number, a stray key, a
// duplicate) reports false, and the full decoder decides, with its error.
// data must be valid UTF-8.
func parsePlain(data []byte) (Request, bool) {
	var r Request
	i := skipSpace(data, 0)
	if i == len(data) || data[i] != '{' {
		return r, false
	}
	i = skipSpace(data, i+1)
	var seen uint16
	for first := true; i < len(data) && data[i] != '}'; first = false {
		if !first {
			if data[i] != ',' {
				return r, false
			}
			i = skipSpace(data, i+1)
		}
		key, j, ok := plainString(data, i)
		if !ok {
			return r, false
		}
		i = skipSpace(data, j)
		if i == len(data) || data[i] != ':' {
			return r, false
		}
		value, j, ok := plainString(data, skipSpace(data, i+1))
		if !ok {
			return r, false
		}
		field, bit := r.field(key)
		if field == nil || seen&bit != 0 {
			return r, false
		}
		seen |= bit
		*field = string(value)
		i = skipSpace(data, j)
	}
	if i == len(data) {
		return r, false
	}
	return r, skipSpace(data, i+1) == len(data)
}

// field returns the field of r that key names, and a bit for it alone.
func (r *Request) field(key []byte) (*string, uint16) {
	switch string(key) {
	case "type":
		return &r.Type, 1 << 0
	case "prompt":
		return &r.Prompt, 1 << 1
	case "campaign":
		return &r.Campaign, 1 << 2
	case "battle_id":
		return &r.BattleID, 1 << 3
	case "content":
		return &r.Content, 1 << 4
	case "winner":
		return (*string)(&r.Winner), 1 << 5
	case "strength":
		return (*string)(&r.Strength), 1 << 6
	case "reason":
		return &r.Reason, 1 << 7
	case "version":
		return &r.Version, 1 << 8
	}
	return nil, 0
}

// plainString reads the JSON string at data[i:] if it has no escape and no
// control character, and returns its contents and the index after it.
func plainString(data []byte, i int) ([]byte, int, bool) {
	if i == len(data) || data[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return data[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20:
			return nil, i, false
		}
	}
	return nil, i, false
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}
