"""The staff area: login, the preview of what an audience will see, approval (docs/ui.md)."""
