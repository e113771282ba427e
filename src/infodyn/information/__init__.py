"""infodyn.information (see DESIGN.md)."""
