"""The action server's custom actions, one module per journey (see ../shared/ARCHITECTURE.md)."""
