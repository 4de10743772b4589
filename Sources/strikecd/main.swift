print("strikecd")
