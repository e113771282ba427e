# %% [markdown]
# # 04_energy_image_patches

# %%
print("stub")
