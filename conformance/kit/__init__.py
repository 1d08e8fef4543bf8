"""The instructor kit: `autograde` (a student's submission in, Gradescope's results.json out),
used by the Gradescope autograder and the GitHub Classroom workflow in this directory."""
