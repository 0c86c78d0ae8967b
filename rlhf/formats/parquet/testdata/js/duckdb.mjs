// Loads exports with DuckDB, a reader independent of Agora's writers, and
// prints one JSON array with, per file given, {"columns": [{"name",
// "type"}], "rows": [...]}: the column types DuckDB inferred (JSON, JSONL)
// or read (Parquet, by the .parquet extension), and the rows as DuckDB's
// JSON-safe values. One process loads every file, as node and DuckDB take
// seconds to start.
import { DuckDBInstance } from '@duckdb/node-api'

const instance = await DuckDBInstance.create(':memory:')
const conn = await instance.connect()
const tables = []
for (const path of process.argv.slice(2)) {
  const quoted = `'${path.replaceAll("'", "''")}'`
  const from = path.endsWith('.parquet')
    ? `read_parquet(${quoted})`
    : `read_json_auto(${quoted}, format = 'auto', sample_size = -1)`
  const reader = await conn.runAndReadAll(`SELECT * FROM ${from}`)
  const types = reader.columnTypes()
  const columns = reader.columnNames().map((name, i) => ({ name, type: types[i].toString() }))
  tables.push({ columns, rows: reader.getRowObjectsJson() })
}
process.stdout.write(JSON.stringify(tables))
