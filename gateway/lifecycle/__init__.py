"""The data lifecycle (issue 13): retention (prune), the sweep of leftovers, and exports."""
