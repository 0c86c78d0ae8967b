// Reads a Parquet file with hyparquet and prints its rows as JSON:
// BigInt values become numbers and timestamps ISO 8601 strings.
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet'

const file = await asyncBufferFromFile(process.argv[2])
const rows = await parquetReadObjects({ file })
process.stdout.write(JSON.stringify(rows, (key, value) => {
  if (typeof value === 'bigint') return Number(value)
  return value
}))
