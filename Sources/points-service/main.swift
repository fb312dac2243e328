import PointsService

try await PointsApp.run()
