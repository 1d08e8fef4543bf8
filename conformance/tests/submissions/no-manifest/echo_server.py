# A submission that forgot its echo-lab.json: the autograder cannot know how to run it.
print("listening on [::]:2000")
