package web

// routesAPI registers the JSON API. (Owned by the API work; this placeholder keeps the package building.)
func (s *Server) routesAPI() {}
