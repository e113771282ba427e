"""infodyn.learning (see DESIGN.md)."""
