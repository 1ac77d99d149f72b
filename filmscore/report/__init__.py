"""What a run leaves for people: report.json, report.html and the editors' files."""
