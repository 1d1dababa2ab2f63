from stats import mean

name = input("What is your name? ")
print(f"Hello, {name}!")

scores = [72, 88, 95, 61]
print(f"The mean of {scores} is {mean(scores):.1f}")
