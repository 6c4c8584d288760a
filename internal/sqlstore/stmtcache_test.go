package sqlstore

import "testing"

func TestPositional(t *testing.T) {
	tests := []struct{ in, want string }{
		{"INSERT INTO t (a, b) VALUES ($1, $2)", "INSERT INTO t (a, b) VALUES (?, ?)"},
		{"SELECT 1", "SELECT 1"},
		{"UPDATE t SET a = $1 WHERE id = $2 AND b = $10", "UPDATE t SET a = $1 WHERE id = $2 AND b = $10"}, // $10 is not third
		{"SELECT $2, $1", "SELECT $2, $1"},                   // out of order
		{"SELECT $1 WHERE a = $1", "SELECT $1 WHERE a = $1"}, // used twice
		{"SELECT '$5', $1", "SELECT '$5', ?"},                // a literal is not a parameter
		{"SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11", "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"},
		{"SELECT a$ FROM t WHERE b = $1", "SELECT a$ FROM t WHERE b = $1"}, // a bare $ is not a parameter
	}
	for _, tt := range tests {
		if got := positional(tt.in); got != tt.want {
			t.Errorf("positional(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
