print("swiftfsd")
