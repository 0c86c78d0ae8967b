// Command tlogcheck is an independent verifier of an Agora log, for the
// tests: it reads only the served checkpoint and tiles over HTTP, and
// checks them with golang.org/x/mod/sumdb's own functions. It shares no
// code with Agora.
//
//	tlogcheck -url http://host:port -key VKEY [-old FILE] [-leaves 0,5,39]
package main

import (
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func main() {
	url := flag.String("url", "", "server base URL")
	key := flag.String("key", "", "the log's verifier key")
	old := flag.String("old", "", "an older checkpoint note (file) to check consistency with")
	leaves := flag.String("leaves", "", "comma-separated leaf indexes to prove")
	flag.Parse()
	if err := check(*url, *key, *old, *leaves); err != nil {
		fmt.Println("FAIL", err)
		os.Exit(1)
	}
}

func get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, err
}

// openTree verifies a C2SP checkpoint note and reads its size and root.
func openTree(msg []byte, vkey string) (tlog.Tree, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return tlog.Tree{}, err
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return tlog.Tree{}, err
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != v.Name() {
		return tlog.Tree{}, fmt.Errorf("bad checkpoint %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return tlog.Tree{}, err
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return tlog.Tree{}, fmt.Errorf("bad root %q", lines[2])
	}
	var t tlog.Tree
	t.N = size
	copy(t.Hash[:], root)
	return t, nil
}

type tiles struct{ url string }

func (tiles) Height() int { return 8 }

func (r tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	var out [][]byte
	for _, t := range ts {
		data, err := get(r.url + "/log/" + t.Path())
		if err != nil {
			return nil, err
		}
		out = append(out, data)
	}
	return out, nil
}

func (tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func check(url, vkey, oldFile, leaves string) error {
	msg, err := get(url + "/log/checkpoint")
	if err != nil {
		return err
	}
	tree, err := openTree(msg, vkey)
	if err != nil {
		return err
	}
	r := tlog.TileHashReader(tree, tiles{url})
	root, err := tlog.TreeHash(tree.N, r)
	if err != nil || root != tree.Hash {
		return fmt.Errorf("tree hash from tiles: %v %v, checkpoint says %v", root, err, tree.Hash)
	}
	fmt.Printf("ok checkpoint %d leaves, tree hash from tiles matches\n", tree.N)
	if oldFile != "" {
		oldMsg, err := os.ReadFile(oldFile)
		if err != nil {
			return err
		}
		old, err := openTree(oldMsg, vkey)
		if err != nil {
			return err
		}
		p, err := tlog.ProveTree(tree.N, old.N, r)
		if err != nil {
			return err
		}
		if err := tlog.CheckTree(p, tree.N, tree.Hash, old.N, old.Hash); err != nil {
			return fmt.Errorf("consistency %d -> %d: %v", old.N, tree.N, err)
		}
		fmt.Printf("ok consistency %d -> %d\n", old.N, tree.N)
	}
	for _, s := range strings.Split(leaves, ",") {
		if s == "" {
			continue
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return err
		}
		rec, err := record(url, tree.N, i)
		if err != nil {
			return err
		}
		p, err := tlog.ProveRecord(tree.N, i, r)
		if err != nil {
			return err
		}
		if err := tlog.CheckRecord(p, tree.N, tree.Hash, i, tlog.RecordHash(rec)); err != nil {
			return fmt.Errorf("leaf %d: %v", i, err)
		}
		fmt.Printf("ok leaf %d included (%d proof hashes)\n", i, len(p))
	}
	return nil
}

// record reads leaf i's record from its data tile.
func record(url string, size, i int64) ([]byte, error) {
	n := i >> 8
	t := tlog.Tile{H: 8, L: -1, N: n, W: int(min(256, size-n<<8))}
	data, err := get(url + "/log/" + t.Path())
	if err != nil {
		return nil, err
	}
	for j := n << 8; ; j++ {
		rec, rest, ok := bytes.Cut(data, []byte("\n\n"))
		if !ok {
			return nil, fmt.Errorf("leaf %d not in data tile %s", i, t.Path())
		}
		if j == i {
			return append(rec, '\n'), nil
		}
		data = rest
	}
}
