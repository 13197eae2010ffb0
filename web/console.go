package web

// routesConsole registers the web console. (Owned by the console work; this placeholder keeps the package building.)
func (s *Server) routesConsole() {}
