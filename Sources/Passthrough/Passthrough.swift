import FuseServer
