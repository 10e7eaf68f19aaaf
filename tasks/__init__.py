"""Task suites. Each task is one file, readable top to bottom: source, prompt template, loader, grader."""
