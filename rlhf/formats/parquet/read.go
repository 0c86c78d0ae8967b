package parquet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	pq "github.com/parquet-go/parquet-go"
)

// magic starts and ends every Parquet file.
var magic = []byte("PAR1")

// IsParquet reports whether head, the first bytes of a file, are those of
// a Parquet file.
func IsParquet(head []byte) bool { return bytes.HasPrefix(head, magic) }

// WriteJSONL writes every row of the Parquet file in r as one JSON object
// a line, the shape the JSON readers of imports and leaderboards take:
// column names as keys, lists as arrays, groups as objects, timestamps as
// seconds since 1970 (a float, like Arena's tstamp) and byte arrays as
// strings. It reads one row at a time.
func WriteJSONL(w io.Writer, r io.ReaderAt, size int64) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	err := eachRow(r, size, func(row map[string]any) error {
		b, err := json.Marshal(row)
		if err != nil {
			return err
		}
		bw.Write(b)
		return bw.WriteByte('\n')
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// WriteCSV writes the rows of the Parquet file in r as CSV with a header
// of its top-level columns, for the CSV reader: strings as they are, nulls
// empty, numbers and booleans as text, lists and groups as JSON text.
func WriteCSV(w io.Writer, r io.ReaderAt, size int64) error {
	f, err := pq.OpenFile(r, size)
	if err != nil {
		return fmt.Errorf("read Parquet: %w", err)
	}
	fields := f.Schema().Fields()
	header := make([]string, len(fields))
	for i, fl := range fields {
		header[i] = fl.Name()
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, len(header))
	err = eachRowOf(f, func(row map[string]any) error {
		for i, name := range header {
			rec[i] = csvField(row[name])
		}
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func csvField(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// eachRow calls fn with every row of the Parquet file in r, normalized.
func eachRow(r io.ReaderAt, size int64, fn func(map[string]any) error) error {
	f, err := pq.OpenFile(r, size)
	if err != nil {
		return fmt.Errorf("read Parquet: %w", err)
	}
	return eachRowOf(f, fn)
}

func eachRowOf(f *pq.File, fn func(map[string]any) error) error {
	rd := pq.NewReader(f)
	defer rd.Close()
	for n := 1; ; n++ {
		row := map[string]any{}
		err := rd.Read(&row)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read Parquet row %d: %w", n, err)
		}
		for k, v := range row {
			row[k] = normalize(v)
		}
		if err := fn(row); err != nil {
			return err
		}
	}
}

// normalize turns the values parquet-go gives into JSON's: timestamps to
// float seconds, byte arrays to strings, integers of every width to int64.
func normalize(v any) any {
	switch v := v.(type) {
	case time.Time:
		return float64(v.UnixMicro()) / 1e6
	case []byte:
		return string(v)
	case map[string]any:
		for k, x := range v {
			v[k] = normalize(x)
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = normalize(x)
		}
		return v
	case int32:
		return int64(v)
	case uint32:
		return int64(v)
	case float32:
		return float64(v)
	}
	return v
}
