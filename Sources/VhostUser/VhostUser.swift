// The vhost-user back end; see VhostUserBackend.swift.
