package clickhouse

import (
	"context"
	"reflect"
)

// MigrateTo brings the schema to version v only, to test upgrades.
func (c *Client) MigrateTo(ctx context.Context, v int) error {
	c.noVoteFlags = v < 3 // insert as that version's Agora did
	return c.migrate(ctx, migrations(), v)
}

// CompressionOf returns the compression method c uses.
func CompressionOf(c Config) string { return c.compression() }

// Exec runs a statement, for tests that set up data by hand.
func (c *Client) Exec(ctx context.Context, q string) error { return c.exec(ctx, q) }

// QueryStrings runs q and returns its rows, every column converted to text
// by ClickHouse (wrap columns in toString), for schema comparisons.
func (c *Client) QueryStrings(ctx context.Context, q string) ([][]string, error) {
	rows, err := c.query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	n := len(rows.Columns())
	var out [][]string
	for rows.Next() {
		row := make([]string, n)
		ptrs := make([]any, n)
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// QueryMaps runs q and returns its rows as column name to value maps.
func (c *Client) QueryMaps(ctx context.Context, q string) ([]map[string]any, error) {
	rows, err := c.query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	var out []map[string]any
	for rows.Next() {
		ptrs := make([]any, len(types))
		for i, ct := range types {
			ptrs[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := map[string]any{}
		for i, ct := range types {
			m[ct.Name()] = reflect.ValueOf(ptrs[i]).Elem().Interface()
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
