"""Rule files (TOML) and tree-sitter queries (.scm) shipped with reviewbot."""
