print("strikectl")
