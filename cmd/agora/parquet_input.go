package main

import (
	"io"
	"os"

	"github.com/agora-rlhf/agora/rlhf/formats/parquet"
)

// parquetInput reports whether fh holds a Parquet file (by its magic
// bytes) and, if so, returns a reader of its rows as JSONL, or as CSV
// when asCSV, converted as they are read, and a stop function to call
// when done with it. fh is left at its start either way.
func parquetInput(fh *os.File, asCSV bool) (io.Reader, func(), error) {
	head := make([]byte, 4)
	n, err := io.ReadFull(fh, head)
	if _, serr := fh.Seek(0, io.SeekStart); serr != nil {
		return nil, nil, serr
	}
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, nil, err
	}
	if !parquet.IsParquet(head[:n]) {
		return nil, nil, nil
	}
	fi, err := fh.Stat()
	if err != nil {
		return nil, nil, err
	}
	convert := parquet.WriteJSONL
	if asCSV {
		convert = parquet.WriteCSV
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(convert(pw, fh, fi.Size()))
	}()
	stop := func() {
		pr.Close() // a conversion still writing stops with io.ErrClosedPipe
		<-done
	}
	return pr, stop, nil
}
