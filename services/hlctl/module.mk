$(eval $(call hl_program,hlctl,services/hlctl,-lcurl -lqrencode -lpng))
