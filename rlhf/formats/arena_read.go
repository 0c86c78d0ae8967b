package formats

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agora-rlhf/agora/rlhf"
)

// arenaIn is one Arena battle as read: FastChat's and the 100k release's
// fields, or LMArena's 140k release's (id, timestamp, and message content
// as a list of parts). Fields Agora does not keep (conv_metadata, is_code,
// dedup_tag, evaluation_session_id, full_conversation, …) are ignored;
// "anony": false marks the battle as not anonymous (NotAnonymousImport).
type arenaIn struct {
	QuestionID    string           `json:"question_id"`
	ID            string           `json:"id"` // the 140k release's name for it
	Timestamp     json.RawMessage  `json:"timestamp"`
	ModelA        string           `json:"model_a"`
	ModelB        string           `json:"model_b"`
	Winner        string           `json:"winner"`
	Judge         string           `json:"judge"`
	Turn          int              `json:"turn"`
	Language      string           `json:"language"`
	Tstamp        json.Number      `json:"tstamp"`
	ConversationA []arenaMessageIn `json:"conversation_a"`
	ConversationB []arenaMessageIn `json:"conversation_b"`
	Anony         *bool            `json:"anony"`
}

// NotAnonymousImport is the identity leak of an imported battle whose
// data says "anony": false (the contributor saw the models' names).
const NotAnonymousImport = "imported with anony false"

type arenaMessageIn struct {
	Role      string       `json:"role"`
	Content   arenaContent `json:"content"`
	NumTokens int          `json:"num_tokens"`
}

// arenaContent is a message's text: a string, or (LMArena's 140k release)
// a list of parts {"type", "text", "image", "mimeType"} whose text parts
// are joined with newlines. An image part is refused: battles hold text.
type arenaContent string

func (c *arenaContent) UnmarshalJSON(b []byte) error {
	if s, ok := unquoteSimple(b); ok {
		*c = arenaContent(s)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = arenaContent(s)
		return nil
	}
	var parts []struct {
		Type  string  `json:"type"`
		Text  *string `json:"text"`
		Image *string `json:"image"`
	}
	if err := json.Unmarshal(b, &parts); err != nil {
		return errors.New("content is neither a string nor a list of parts")
	}
	var texts []string
	for _, p := range parts {
		switch {
		case p.Image != nil && *p.Image != "", p.Type == "image":
			return errors.New("content has an image part; battles hold text only")
		case p.Text != nil:
			texts = append(texts, *p.Text)
		}
	}
	*c = arenaContent(strings.Join(texts, "\n"))
	return nil
}

// unquoteSimple decodes b, a JSON string the decoder has checked already,
// when it is valid UTF-8 and has no \u escapes: then it gives what
// json.Unmarshal gives, without scanning the text twice more (a third of
// reading an Arena file with its conversations). ok is false otherwise.
func unquoteSimple(b []byte) (s string, ok bool) {
	if len(b) < 2 || b[0] != '"' || !utf8.Valid(b) {
		return "", false
	}
	b = b[1 : len(b)-1]
	i := bytes.IndexByte(b, '\\')
	if i < 0 {
		return string(b), true
	}
	out := make([]byte, 0, len(b))
	for i >= 0 {
		if i+1 >= len(b) {
			return "", false
		}
		out = append(out, b[:i]...)
		switch c := b[i+1]; c {
		case '"', '\\', '/':
			out = append(out, c)
		case 'b', 'f', 'n', 'r', 't':
			out = append(out, "\b\f\n\r\t"[strings.IndexByte("bfnrt", c)])
		default:
			return "", false
		}
		b = b[i+2:]
		i = bytes.IndexByte(b, '\\')
	}
	return string(append(out, b...)), true
}

// maxImportTurns caps the turns of one imported battle.
const maxImportTurns = 1000

// readArena reads a JSON array of battles or JSONL, whichever the input is.
func (rd *reader) readArena(r io.Reader) error {
	br := bufio.NewReaderSize(r, 256<<10)
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return nil // empty input
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			continue
		}
		if c == 0xEF { // a UTF-8 byte order mark
			continue
		}
		br.UnreadByte()
		if c == '[' {
			return rd.readArenaArray(br)
		}
		return rd.readArenaLines(br)
	}
}

// arenaRecord turns one decoded battle into a record and passes it on.
func (rd *reader) arenaRecord(line int, text []byte, in *arenaIn) error {
	bad := func(format string, args ...any) error {
		return &LineError{Line: line, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case in.ModelA == "":
		return bad("missing model_a")
	case in.ModelB == "":
		return bad("missing model_b")
	case in.Winner == "":
		return bad("missing winner")
	}
	w, err := rd.parseWinner(in.Winner)
	if err != nil {
		return &LineError{Line: line, Err: err}
	}
	at := rd.now()
	switch {
	case in.Tstamp != "":
		if at, err = parseUnixSeconds(string(in.Tstamp)); err != nil {
			return bad("tstamp: %v", err)
		}
	case len(in.Timestamp) > 0 && string(in.Timestamp) != "null":
		if at, err = parseTimestamp(in.Timestamp); err != nil {
			return bad("timestamp: %v", err)
		}
	}
	id := cmp.Or(in.QuestionID, in.ID)
	if id == "" {
		id = recordID(rd.opts.Source, line, text)
	}
	rec := rd.newRecord(id, in.ModelA, in.ModelB, w, at, in.Judge)
	if !strings.EqualFold(in.Language, "unknown") { // LMArena's spelling of no language
		rec.Battle.Language = in.Language
	}
	if in.Anony != nil && !*in.Anony {
		rec.Battle.IdentityLeak = NotAnonymousImport
	}
	ca, cb := in.ConversationA, in.ConversationB
	switch {
	case len(ca) == 0 && len(cb) == 0:
		n := in.Turn
		if n <= 0 {
			n = 1
		}
		if n > maxImportTurns {
			return bad("turn %d is over the limit of %d", n, maxImportTurns)
		}
		for i := 0; i < n; i++ {
			rec.Battle.Turns = append(rec.Battle.Turns, rlhf.Turn{Index: i, At: at})
		}
	case len(ca) != len(cb):
		return bad("conversation_a has %d messages, conversation_b %d", len(ca), len(cb))
	case len(ca)%2 != 0:
		return bad("conversations have %d messages; want user and assistant pairs", len(ca))
	case len(ca)/2 > maxImportTurns:
		return bad("%d turns is over the limit of %d", len(ca)/2, maxImportTurns)
	default:
		for i := 0; i < len(ca); i += 2 {
			ua, aa, ub, ab := &ca[i], &ca[i+1], &cb[i], &cb[i+1]
			if ua.Role != "user" || ub.Role != "user" || aa.Role != "assistant" || ab.Role != "assistant" {
				return bad("turn %d: want a user then an assistant message on both sides, got %s/%s and %s/%s",
					i/2+1, ua.Role, aa.Role, ub.Role, ab.Role)
			}
			if ua.Content != ub.Content {
				return bad("turn %d: the two sides have different user messages", i/2+1)
			}
			rec.Battle.Turns = append(rec.Battle.Turns, rlhf.Turn{
				Index: i / 2, Prompt: string(ua.Content), At: at,
				A: rlhf.Answer{Content: string(aa.Content), Tokens: aa.NumTokens},
				B: rlhf.Answer{Content: string(ab.Content), Tokens: ab.NumTokens},
			})
		}
	}
	return rd.record(line, rec)
}

// readArenaArray reads a JSON array of battles one element at a time.
func (rd *reader) readArenaArray(r io.Reader) error {
	return rd.eachElement(r, func(line int, raw json.RawMessage) error {
		var in arenaIn
		if err := json.Unmarshal(raw, &in); err != nil {
			return &LineError{Line: line, Err: jsonError(err)}
		}
		return rd.arenaRecord(line, raw, &in)
	})
}

// eachElement reads a JSON array with encoding/json one element at a
// time, handing each element and the line it starts on to each, whose
// error goes to rd.handle. The records and the counts readers share it.
// A broken array ends the read: the rest of it cannot be read.
func (rd *reader) eachElement(r io.Reader, each func(line int, raw json.RawMessage) error) error {
	lt := &lineTracker{r: r}
	dec := json.NewDecoder(lt)
	if _, err := dec.Token(); err != nil { // the opening bracket
		return &LineError{Line: 1, Err: jsonError(err)}
	}
	var raw json.RawMessage
	for dec.More() {
		raw = raw[:0]
		if err := dec.Decode(&raw); err != nil {
			line := lt.lastLine() // the input ended inside the element
			var se *json.SyntaxError
			if errors.As(err, &se) {
				line = lt.lineAt(se.Offset)
			}
			return rd.broken(&LineError{Line: line, Err: fmt.Errorf("array element %d: %w", rd.st.Lines+1, jsonError(err))})
		}
		rd.st.Lines++
		if err := rd.handle(rd.element(lt.lineAt(dec.InputOffset()-int64(len(raw))), raw, each)); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return rd.broken(&LineError{Line: lt.lastLine(), Err: fmt.Errorf("after element %d: %w", rd.st.Lines, jsonError(err))})
	}
	return nil
}

// element checks an array element as a line is checked (its length and
// UTF-8), for both readers, then gives it to each.
func (rd *reader) element(line int, raw json.RawMessage, each func(line int, raw json.RawMessage) error) error {
	switch {
	case len(raw) > rd.opts.MaxLineBytes:
		return &LineError{Line: line, Err: fmt.Errorf("array element is longer than %d bytes", rd.opts.MaxLineBytes)}
	case !utf8.Valid(raw):
		return &LineError{Line: line, Err: errors.New("not valid UTF-8")}
	}
	return each(line, raw)
}

// broken counts le, which ends a read, as a bad line and returns it.
func (rd *reader) broken(le *LineError) error {
	rd.st.Bad++
	rd.st.Errors = append(rd.st.Errors, le)
	return le
}

// lineTracker counts the lines of what passes through it, so that byte
// offsets reported by a json.Decoder can be turned into line numbers. It
// keeps only the newline offsets the decoder has read ahead of.
type lineTracker struct {
	r        io.Reader
	off      int64   // bytes read so far
	newlines []int64 // offsets of newlines not yet counted
	line     int     // the line of the last offset asked for, less one
}

func (t *lineTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	for i := 0; i < n; {
		j := bytes.IndexByte(p[i:n], '\n')
		if j < 0 {
			break
		}
		t.newlines = append(t.newlines, t.off+int64(i+j))
		i += j + 1
	}
	t.off += int64(n)
	return n, err
}

// lineAt returns the 1-based line of byte offset off. Offsets must not go
// backwards by more than what is still queued.
func (t *lineTracker) lineAt(off int64) int {
	k := 0
	for k < len(t.newlines) && t.newlines[k] < off {
		k++
	}
	t.line += k
	t.newlines = t.newlines[k:]
	return t.line + 1
}

// lastLine returns the line of the last byte read.
func (t *lineTracker) lastLine() int { return t.line + len(t.newlines) + 1 }

// parseTimestamp reads the 140k release's timestamp: seconds since 1970
// (milliseconds, microseconds or nanoseconds when it is too large to be
// seconds), or a date and time as a string, RFC 3339 or "2006-01-02
// 15:04:05.999999" in UTC.
func parseTimestamp(raw json.RawMessage) (time.Time, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || math.IsNaN(f) || f < 0 {
			return time.Time{}, fmt.Errorf("%s is neither a number nor a string", raw)
		}
		for f > 1<<40 { // past year 36812 in seconds: a finer unit
			f /= 1000
		}
		return parseUnixSeconds(strconv.FormatFloat(f, 'f', -1, 64))
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (want RFC 3339 or 2006-01-02 15:04:05)", s)
}

// parseUnixSeconds reads seconds since the epoch, such as 1712345678.123,
// exactly to the microsecond when given in plain decimal notation.
func parseUnixSeconds(s string) (time.Time, error) {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if !strings.ContainsAny(s, "eE+") && !strings.HasPrefix(s, "-") {
		sec, err := strconv.ParseInt(intPart, 10, 64)
		if err == nil && sec < 1<<40 {
			us := int64(0)
			if hasFrac {
				if len(frac) > 6 {
					frac = frac[:6]
				}
				for len(frac) < 6 {
					frac += "0"
				}
				us, err = strconv.ParseInt(frac, 10, 64)
			}
			if err == nil {
				return time.UnixMicro(sec*1e6 + us).UTC(), nil
			}
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1<<40 {
		return time.Time{}, fmt.Errorf("%q is not a time in seconds since 1970", s)
	}
	return time.UnixMicro(int64(math.Round(f * 1e6))).UTC(), nil
}
