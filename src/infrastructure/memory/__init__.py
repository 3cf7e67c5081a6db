"""In-memory adapters of every port: honest models of the SQL ones, held to the same
contract suite (`tests/contract`). Instance-level state, writes invisible until commit,
copies on read and on commit."""
