"""infodyn.energy (see DESIGN.md)."""
