"""The playground page: static HTML, CSS and plain JavaScript shipped in the package."""
