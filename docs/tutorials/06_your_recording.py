# %% [markdown]
# # 06_your_recording

# %%
print("stub")
